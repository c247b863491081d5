/**
 * Console keyboard shortcuts. Alt combinations work while typing (they
 * insert nothing on most layouts); `?` does not, or it could never be typed.
 * Keys are matched by `code` where the Alt layer changes `key` (macOS turns
 * Alt+F into "ƒ").
 */

export type ShortcutAction =
  | { kind: 'next' }
  | { kind: 'previous' }
  | { kind: 'goto'; index: number }
  | { kind: 'flag' }
  | { kind: 'note' }
  | { kind: 'help' };

export interface KeyInput {
  key: string;
  code: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
}

export function shortcutFor(event: KeyInput, typing: boolean): ShortcutAction | null {
  if (event.altKey && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
    if (event.key === 'ArrowRight') return { kind: 'next' };
    if (event.key === 'ArrowLeft') return { kind: 'previous' };
    const digit = /^Digit([1-9])$/.exec(event.code);
    if (digit) return { kind: 'goto', index: Number(digit[1]) - 1 };
    if (event.code === 'KeyF') return { kind: 'flag' };
    if (event.code === 'KeyN') return { kind: 'note' };
    return null;
  }
  if (!typing && event.key === '?' && !event.altKey && !event.ctrlKey && !event.metaKey) {
    return { kind: 'help' };
  }
  return null;
}

/** Shown in the briefing and the help dialog. */
export const SHORTCUTS: readonly { keys: string[]; action: string }[] = [
  { keys: ['Alt', '→'], action: 'Next task' },
  { keys: ['Alt', '←'], action: 'Previous task' },
  { keys: ['Alt', '1…9'], action: 'Go to task 1 to 9' },
  { keys: ['Alt', 'F'], action: 'Flag or unflag the task for review' },
  { keys: ['Alt', 'N'], action: "Write in the task's note" },
  { keys: ['?'], action: 'Show these shortcuts' },
  { keys: ['Esc'], action: 'Close a dialog' },
];

export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return (
    target.isContentEditable ||
    target instanceof HTMLInputElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement
  );
}

/**
 * Inside the terminal every key is the shell's: Alt+F moves a word forward
 * there, Alt+1 starts a count. The console's shortcuts work again once the
 * focus leaves it (Shift+Tab, a click).
 */
export function isTerminalTarget(target: EventTarget | null): boolean {
  return target instanceof Element && target.closest('[data-terminal]') !== null;
}
