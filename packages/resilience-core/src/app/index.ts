/** The application: organizations (Appwrite teams) and recognitions. */

export { type Admission, composeHooks, type RecognitionDraft, type RecognitionHooks } from './hooks.ts';
export {
  type CreateRecognitionInput,
  type CreateRecognitionResult,
  createRecognition,
  createRecognitionInputSchema,
  listRecognitions,
  listRecognitionsQuerySchema,
  prefetchRecognition,
  type RecognitionCaller,
  type RecognitionDeps,
} from './recognitions.ts';
export { appTables, RECOGNITIONS_TABLE, type RecognitionData } from './tables.ts';
