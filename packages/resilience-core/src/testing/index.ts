export {
  type SimBehaviourInput,
  type SimInterceptor,
  SimulatedFunctionsPlatform,
  simBehaviourSchema,
  simBundle,
} from '../deployment/testing/simulated-functions-platform.ts';
export { ManualClock } from './manual-clock.ts';
export { type ContractFixture, contractTable, describeTableStoreContract } from './table-store-contract.ts';
