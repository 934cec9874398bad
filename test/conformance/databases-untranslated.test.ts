/**
 * The upstream Databases cases (tests/e2e/Services/Databases/** at Appwrite 1.9.5) that are not translated in the
 * other databases-*.test.ts files, each with the reason: a feature appwrite-local does not serve, or simply not
 * translated yet. Listed so the summary prints what is left; none is counted as passed.
 */
import { ACID_BASE, DB_BASE, TX_BASE } from './databases-kit.ts';
import { skipUpstream } from './harness.ts';

skipUpstream(`${DB_BASE}:825`, 'testConsoleProject', 'console projects are not served');
skipUpstream(`${DB_BASE}:866`, 'testDisableCollection', 'not translated yet (served by appwrite-local)');
skipUpstream(`${DB_BASE}:2656`, 'testUpsertDocument', 'not translated yet (served by appwrite-local)');
skipUpstream(`${DB_BASE}:3318`, 'testListDocumentsWithCache', 'the list cache (listRows ttl) is not served');
skipUpstream(
  `${DB_BASE}:3451`,
  'testListDocumentsCacheBustedByAttributeChange',
  'the list cache (listRows ttl) is not served',
);
skipUpstream(
  `${DB_BASE}:3523`,
  'testListDocumentsCachedWithoutSelectQuery',
  'the list cache (listRows ttl) is not served',
);
skipUpstream(
  `${DB_BASE}:3569`,
  'testListDocumentsCachePurgedByUpdate',
  'the list cache (listRows ttl) is not served',
);
skipUpstream(`${DB_BASE}:4461`, 'testOperators', 'Operator values in row data are not served');
skipUpstream(`${DB_BASE}:4715`, 'testBulkOperators', 'Operator values in row data are not served');
skipUpstream(
  `${DB_BASE}:5472`,
  'testDefaultPermissions',
  'needs user sessions of the client scopes; not translated yet',
);
skipUpstream(
  `${DB_BASE}:5588`,
  'testEnforceCollectionAndDocumentPermissions',
  'needs user sessions of the client scopes; not translated yet',
);
skipUpstream(
  `${DB_BASE}:5775`,
  'testEnforceCollectionPermissions',
  'needs user sessions of the client scopes; not translated yet',
);
skipUpstream(
  `${DB_BASE}:6158`,
  'testUpdatePermissionsWithEmptyPayload',
  'needs user sessions of the client scopes; not translated yet',
);
skipUpstream(`${DB_BASE}:6321`, 'testOneToOneRelationship', 'relationships are not served');
skipUpstream(`${DB_BASE}:6573`, 'testOneToManyRelationship', 'relationships are not served');
skipUpstream(`${DB_BASE}:6716`, 'testManyToOneRelationship', 'relationships are not served');
skipUpstream(`${DB_BASE}:6865`, 'testManyToManyRelationship', 'relationships are not served');
skipUpstream(`${DB_BASE}:7025`, 'testValidateOperators', 'Operator values in row data are not served');
skipUpstream(
  `${DB_BASE}:7072`,
  'testSelectQueries',
  'relationships are not served (upstream runs it only with them)',
);
skipUpstream(`${DB_BASE}:7257`, 'testUpdateWithExistingRelationships', 'relationships are not served');
skipUpstream(`${DB_BASE}:7361`, 'testTimeout', 'query timeouts are not served');
skipUpstream(`${DB_BASE}:7694`, 'testSpatialPointAttributes', 'spatial columns are not served');
skipUpstream(`${DB_BASE}:7838`, 'testSpatialLineAttributes', 'spatial columns are not served');
skipUpstream(`${DB_BASE}:7981`, 'testSpatialPolygonAttributes', 'spatial columns are not served');
skipUpstream(`${DB_BASE}:8126`, 'testSpatialAttributesMixedCollection', 'spatial columns are not served');
skipUpstream(`${DB_BASE}:8290`, 'testUpdateSpatialAttributes', 'spatial columns are not served');
skipUpstream(`${DB_BASE}:8455`, 'testSpatialQuery', 'spatial columns are not served');
skipUpstream(`${DB_BASE}:8872`, 'testSpatialRelationshipOneToOne', 'relationships are not served');
skipUpstream(`${DB_BASE}:9015`, 'testSpatialRelationshipOneToMany', 'relationships are not served');
skipUpstream(`${DB_BASE}:9154`, 'testSpatialRelationshipManyToOne', 'relationships are not served');
skipUpstream(`${DB_BASE}:9285`, 'testSpatialRelationshipManyToMany', 'relationships are not served');
skipUpstream(`${DB_BASE}:9415`, 'testSpatialIndex', 'spatial columns are not served');
skipUpstream(`${DB_BASE}:9539`, 'testSpatialDistanceInMeter', 'spatial columns are not served');
skipUpstream(`${DB_BASE}:9700`, 'testSpatialColCreateOnExistingData', 'spatial columns are not served');
skipUpstream(
  `${DB_BASE}:9848`,
  'testSpatialColCreateOnExistingDataWithDefaults',
  'spatial columns are not served',
);
skipUpstream(
  `${TX_BASE}:586`,
  'testTransactionExpiration',
  'not translated yet (needs a clock jump; covered by test/appwrite-local.transactions.test.ts)',
);
skipUpstream(`${TX_BASE}:1050`, 'testBulkOperations', 'not translated yet (served by appwrite-local)');
skipUpstream(`${TX_BASE}:2860`, 'testMixedOperations', 'not translated yet (served by appwrite-local)');
skipUpstream(
  `${TX_BASE}:3004`,
  'testBulkUpdateWithTransactionAwareQueries',
  'not translated yet (served by appwrite-local)',
);
skipUpstream(
  `${TX_BASE}:3186`,
  'testBulkUpdateMatchingUpdatedDocuments',
  'not translated yet (served by appwrite-local)',
);
skipUpstream(
  `${TX_BASE}:3363`,
  'testBulkDeleteMatchingCreatedDocuments',
  'not translated yet (served by appwrite-local)',
);
skipUpstream(
  `${TX_BASE}:3527`,
  'testBulkDeleteMatchingUpdatedDocuments',
  'not translated yet (served by appwrite-local)',
);
skipUpstream(`${TX_BASE}:4138`, 'testBulkUpsertOperations', 'not translated yet (served by appwrite-local)');
skipUpstream(
  `${TX_BASE}:5023`,
  'testCrossAPIIncrementDecrement',
  'the legacy documents routes are not served',
);
skipUpstream(
  `${TX_BASE}:5133`,
  'testBulkUpdateWithDependentDocuments',
  'not translated yet (served by appwrite-local)',
);
skipUpstream(
  `${TX_BASE}:5247`,
  'testBulkDeleteWithDependentDocuments',
  'not translated yet (served by appwrite-local)',
);
skipUpstream(
  `${TX_BASE}:5354`,
  'testBulkUpsertWithDependentDocuments',
  'not translated yet (served by appwrite-local)',
);
skipUpstream(
  `${TX_BASE}:5464`,
  'testBulkUpdateMatchesCreatedDocsInSameTransaction',
  'not translated yet (served by appwrite-local)',
);
skipUpstream(
  `${TX_BASE}:5733`,
  'testArrayOperatorsWithUpdateRow',
  'Operator values in row data are not served',
);
skipUpstream(
  `${TX_BASE}:5862`,
  'testArrayOperatorsWithCreateOperations',
  'Operator values in row data are not served',
);
skipUpstream(`${TX_BASE}:5992`, 'testMultipleArrayOperators', 'Operator values in row data are not served');
skipUpstream(`${ACID_BASE}:177`, 'testConsistency', 'not translated yet (served by appwrite-local)');
skipUpstream(`${ACID_BASE}:312`, 'testIsolation', 'not translated yet (served by appwrite-local)');
skipUpstream(`${ACID_BASE}:471`, 'testDurability', 'not translated yet (served by appwrite-local)');
skipUpstream(
  `${DB_BASE}:1441`,
  'testAttributeResponseModels: the relationship column and its 37 assertions',
  'relationships are not served',
);
skipUpstream(
  `${DB_BASE}:1027`,
  'testCreateAttributes: the relationship column and its 7 assertions',
  'relationships are not served',
);
skipUpstream(
  'Databases/Permissions/*, Databases/Transactions/TransactionPermissionsBase.php',
  'permission tests for guests, members and teams',
  'need user sessions (appwrite-local transactions are API-key only); not translated yet',
);
skipUpstream(
  'Databases/DocumentsDB/**, Databases/VectorsDB/**',
  'DocumentsDB and VectorsDB',
  'those database types are not served',
);
skipUpstream(
  'Databases/Legacy/DatabasesStringTypesTest.php',
  'legacy string types',
  'the legacy documents routes are not served',
);
