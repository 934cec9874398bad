import type { RecognitionData } from '../app/tables.ts';
import type { NotificationMessage } from './webhook-notifier.ts';

/** The notification for a new recognition (user ids, not names: the notifier has no directory lookup). */
export function recognitionMessage(row: RecognitionData & { $id: string }): NotificationMessage {
  const points = row.points ? ` (+${row.points} points)` : '';
  const tags = row.tags?.length ? `\n${row.tags.map((t) => `#${t}`).join(' ')}` : '';
  return {
    title: 'New recognition',
    text: `${row.giverId} recognized ${row.receiverId}${points}: ${row.message}${tags}`,
  };
}
