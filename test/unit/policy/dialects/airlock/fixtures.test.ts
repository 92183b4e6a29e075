/**
 * test/fixtures/policies/airlock: valid documents with their compiled model beside them (regexes by their source,
 * CIDR networks as decimal strings), invalid ones with `# expect:` lines. Files the documents name (JWKS, CA) are
 * read next to the document. `UPDATE_FIXTURES=1 npx vitest run test/unit/policy/dialects/airlock` regenerates.
 */
import { fileURLToPath } from 'node:url';
import { airlockDialect } from '../../../../../src/policy/dialects/airlock/index.js';
import { describeDialectFixtures } from '../../../../helpers/dialect-fixtures.js';

describeDialectFixtures(fileURLToPath(new URL('../../../../fixtures/policies/airlock/', import.meta.url)), airlockDialect);
