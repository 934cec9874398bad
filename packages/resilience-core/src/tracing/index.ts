export {
  childSpan,
  continueTrace,
  formatTraceparent,
  newTrace,
  parseTraceparent,
  type TraceContext,
} from './trace-context.ts';
