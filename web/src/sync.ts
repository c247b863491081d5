import type { AnswerFields, SessionView } from './api.js';

/**
 * Two tabs of the same session stay consistent: each tells the others what
 * it saved and what changed (BroadcastChannel, same origin only). Unsaved
 * typing is not shared; the tab it happens in saves it and then says so.
 */
export type TabMessage =
  | { type: 'question-saved'; questionId: string; fields: AnswerFields }
  | { type: 'notepad-saved'; notepad: string }
  | { type: 'session'; session: SessionView }
  | { type: 'visited'; questionId: string }
  | { type: 'left' };

export interface TabChannel {
  post(message: TabMessage): void;
  close(): void;
}

export function openTabChannel(
  sessionId: string,
  onMessage: (message: TabMessage) => void,
): TabChannel {
  if (typeof BroadcastChannel === 'undefined')
    return { post: () => undefined, close: () => undefined };
  const channel = new BroadcastChannel(`cka-session-${sessionId}`);
  channel.onmessage = (event: MessageEvent<TabMessage>) => onMessage(event.data);
  return {
    post: (message) => channel.postMessage(message),
    close: () => channel.close(),
  };
}
