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
  type NotificationMessage,
  type NotifierLog,
  type NotifyOptions,
  type NotifyPath,
  postWebhook,
  queueDeferral,
  type SendOptions,
  type WebhookChannel,
  type WebhookNotifier,
  type WebhookNotifierOptions,
  webhooksFromEnv,
} from './webhook-notifier.ts';
