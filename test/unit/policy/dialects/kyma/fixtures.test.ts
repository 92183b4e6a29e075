/**
 * test/fixtures/policies/kyma: valid APIRules with their compiled model beside them, invalid ones with `# expect:`
 * lines (and no authorization policy compiled from them).
 * `UPDATE_FIXTURES=1 npx vitest run test/unit/policy/dialects/kyma` regenerates.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { kymaDialect } from '../../../../../src/policy/dialects/kyma/index.js';
import { describeDialectFixtures } from '../../../../helpers/dialect-fixtures.js';

describeDialectFixtures(fileURLToPath(new URL('../../../../fixtures/policies/kyma/', import.meta.url)), kymaDialect, (result) => {
  expect(result.fragment.authorizationPolicies).toEqual([]);
});
