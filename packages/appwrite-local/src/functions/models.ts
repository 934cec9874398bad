/**
 * Renders stored records as Appwrite response models (Function, Deployment, Execution, Variable). Fields of both
 * response formats are included (1.8 `specification`, 1.9 `buildSpecification`/`runtimeSpecification`): the SDK
 * and the CLI ignore what they do not know.
 */
import { formatDate } from '../wire.ts';
import type { DeploymentRecord, ExecutionRecord, FunctionRecord, VariableRecord } from './records.ts';

/** Epoch ms → ISO-8601, or `''` for 0 (Appwrite's empty date). */
function date(ms: number): string {
  return ms > 0 ? formatDate(ms) : '';
}

/** The Variable model; secret values are blanked. */
export function variableModel(v: VariableRecord): Record<string, unknown> {
  return {
    $id: v.$id,
    $createdAt: date(v.$createdAt),
    $updatedAt: date(v.$updatedAt),
    key: v.key,
    value: v.secret ? '' : v.value,
    secret: v.secret,
    resourceType: v.resourceType,
    resourceId: v.resourceId,
  };
}

/** The Function model, with its variables. */
export function functionModel(f: FunctionRecord, vars: VariableRecord[]): Record<string, unknown> {
  return {
    $id: f.$id,
    $createdAt: date(f.$createdAt),
    $updatedAt: date(f.$updatedAt),
    execute: f.execute,
    name: f.name,
    enabled: f.enabled,
    live: f.live,
    logging: f.logging,
    runtime: f.runtime,
    deploymentRetention: f.deploymentRetention,
    deploymentId: f.deploymentId,
    deploymentCreatedAt: date(f.deploymentCreatedAt),
    latestDeploymentId: f.latestDeploymentId,
    latestDeploymentCreatedAt: date(f.latestDeploymentCreatedAt),
    latestDeploymentStatus: f.latestDeploymentStatus,
    scopes: f.scopes,
    vars: vars.map(variableModel),
    events: f.events,
    schedule: f.schedule,
    timeout: f.timeout,
    entrypoint: f.entrypoint,
    commands: f.commands,
    version: 'v5',
    installationId: '',
    providerRepositoryId: '',
    providerBranch: '',
    providerRootDirectory: '',
    providerSilentMode: false,
    providerBranches: [],
    providerPaths: [],
    specification: f.specification,
    buildSpecification: f.buildSpecification ?? f.specification,
    runtimeSpecification: f.specification,
  };
}

/** The Deployment model. Chunked uploads also carry `chunksTotal`/`chunksUploaded`, which the SDK reads. */
export function deploymentModel(d: DeploymentRecord): Record<string, unknown> {
  return {
    $id: d.$id,
    $createdAt: date(d.$createdAt),
    $updatedAt: date(d.$updatedAt),
    type: d.type,
    resourceId: d.functionId,
    resourceType: 'functions',
    entrypoint: d.entrypoint,
    sourceSize: d.sourceSize,
    buildSize: d.buildSize,
    totalSize: d.sourceSize + d.buildSize,
    buildId: d.$id,
    activate: d.activate,
    screenshotLight: '',
    screenshotDark: '',
    status: d.status,
    buildLogs: d.buildLogs,
    buildDuration: d.buildDuration,
    providerRepositoryName: '',
    providerRepositoryOwner: '',
    providerRepositoryUrl: '',
    providerCommitHash: '',
    providerCommitAuthorUrl: '',
    providerCommitAuthor: '',
    providerCommitMessage: '',
    providerCommitUrl: '',
    providerBranch: '',
    providerBranchUrl: '',
    chunksTotal: d.chunksTotal,
    chunksUploaded: d.chunksUploaded,
  };
}

/**
 * The Execution model. `responseBody` is only filled for synchronous executions; logs and errors only reach
 * API-key callers (every caller of this server is one).
 */
export function executionModel(e: ExecutionRecord, responseBody = ''): Record<string, unknown> {
  return {
    $id: e.$id,
    $createdAt: date(e.$createdAt),
    $updatedAt: date(e.$updatedAt),
    $permissions: e.$permissions,
    functionId: e.functionId,
    deploymentId: e.deploymentId,
    trigger: e.trigger,
    status: e.status,
    requestMethod: e.requestMethod,
    requestPath: e.requestPath,
    requestHeaders: e.requestHeaders,
    responseStatusCode: e.responseStatusCode,
    responseBody,
    responseHeaders: e.responseHeaders,
    logs: e.logs,
    errors: e.errors,
    duration: e.duration,
    scheduledAt: e.scheduledAt === null ? null : date(e.scheduledAt),
  };
}
