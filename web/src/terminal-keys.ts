import type { KeyInput } from './shortcuts.js';

/**
 * The few keys the console takes from the terminal; everything else is the
 * shell's (Ctrl+C interrupts, Alt+F moves a word, Tab completes). Linux
 * terminals copy and paste with Ctrl+Shift+C and V; Shift+F10 and the menu
 * key open the context menu; Shift+Tab moves focus out of the terminal,
 * which would otherwise keep every Tab for completion.
 */
export type TerminalKeyAction = 'copy' | 'paste' | 'menu' | 'leave';

/** A letter key, by the character it types, or by its position where the layout is not Latin. */
function isLetter(event: KeyInput, letter: string): boolean {
  const key = event.key.toLowerCase();
  if (/^[a-z]$/.test(key)) return key === letter;
  return event.code === `Key${letter.toUpperCase()}`;
}

export function terminalKeyFor(event: KeyInput): TerminalKeyAction | null {
  const { altKey, ctrlKey, metaKey, shiftKey } = event;
  if (ctrlKey && shiftKey && !altKey && !metaKey) {
    if (isLetter(event, 'c')) return 'copy';
    if (isLetter(event, 'v')) return 'paste';
    return null;
  }
  if (altKey || ctrlKey || metaKey) return null;
  if (event.key === 'ContextMenu' || (shiftKey && event.key === 'F10')) return 'menu';
  if (shiftKey && event.key === 'Tab') return 'leave';
  return null;
}

/** Shown with the console's shortcuts. */
export const TERMINAL_SHORTCUTS: readonly { keys: string[]; action: string }[] = [
  { keys: ['Ctrl', 'Shift', 'C'], action: 'Copy the selected text' },
  { keys: ['Ctrl', 'Shift', 'V'], action: 'Paste' },
  { keys: ['Shift', 'F10'], action: 'Open the terminal menu (also a right click)' },
  { keys: ['Shift', 'Tab'], action: 'Move the focus out of the terminal' },
];
