export { createFakeContext, type FakeContext, type FakeRequest, invoke } from './fake-context.ts';
export { ManualClock } from './manual-clock.ts';
export { memoryExecutionCounter } from './memory-execution-counter.ts';
export {
  type SimBehaviourInput,
  type SimInterceptor,
  SimulatedFunctionsPlatform,
  simBehaviourSchema,
  simBundle,
} from './simulated-functions-platform.ts';
export { type ContractFixture, contractTable, describeTableStoreContract } from './table-store-contract.ts';
