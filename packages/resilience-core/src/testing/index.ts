export { ManualClock } from './manual-clock.ts';
export { type ContractFixture, contractTable, describeTableStoreContract } from './table-store-contract.ts';
