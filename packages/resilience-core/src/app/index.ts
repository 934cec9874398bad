/** The application: organizations (Appwrite teams) and recognitions. */
export {
  type Admission,
  composeHooks,
  type RecognitionDraft,
  type RecognitionHooks,
} from './hooks.ts';
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
export {
  appTables,
  MESSAGE_MAX,
  POINTS_MAX,
  RECOGNITIONS_TABLE,
  type RecognitionData,
  recognitionRowSchema,
  recognitionsTable,
  TAG_MAX_LENGTH,
  TAGS_MAX,
} from './tables.ts';
