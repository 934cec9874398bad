export {
  type ExecutionNotifications,
  type NotificationsContext,
  notificationsFor,
  processCircuitBreakers,
  REQUEST_PATH_BUDGET_MS,
  webhookTransport,
  webhookVariablesSchema,
} from './function-notifications.ts';
export { quotaNotifierFromWebhooks } from './quota-webhooks.ts';
export { recognitionMessage } from './recognition-message.ts';
export {
  type ChannelOutcome,
  createWebhookNotifier,
  type DeferNotification,
  type DeferredNotification,
  logDeferral,
  NOTIFICATION_QUOTA,
  type NotificationMessage,
  type NotifierLog,
  type NotifyOptions,
  type NotifyPath,
  postWebhook,
  queueDeferral,
  type SendOptions,
  slackBody,
  teamsBody,
  type WebhookChannel,
  type WebhookNotifier,
  type WebhookNotifierOptions,
  webhookChannelSchema,
  webhookEnvSchema,
  webhooksFromEnv,
} from './webhook-notifier.ts';
