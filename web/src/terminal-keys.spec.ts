import { describe, expect, it } from '@jest/globals';
import type { KeyInput } from './shortcuts.js';
import { TERMINAL_SHORTCUTS, terminalKeyFor } from './terminal-keys.js';

const key = (input: Partial<KeyInput> & Pick<KeyInput, 'key'>): KeyInput => ({
  code: '',
  altKey: false,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  ...input,
});
const ctrlShift = (k: string, code: string) => key({ key: k, code, ctrlKey: true, shiftKey: true });

describe('terminalKeyFor', () => {
  it('copies with Ctrl+Shift+C and pastes with Ctrl+Shift+V', () => {
    expect(terminalKeyFor(ctrlShift('C', 'KeyC'))).toBe('copy');
    expect(terminalKeyFor(ctrlShift('V', 'KeyV'))).toBe('paste');
    // Caps Lock on: the key is lower case.
    expect(terminalKeyFor(ctrlShift('c', 'KeyC'))).toBe('copy');
  });

  it('goes by the character on Latin layouts and by the position on others', () => {
    // Dvorak: the key that types "C" is where QWERTY has I.
    expect(terminalKeyFor(ctrlShift('C', 'KeyI'))).toBe('copy');
    expect(terminalKeyFor(ctrlShift('J', 'KeyC'))).toBeNull();
    // Russian: the C position types "С" (Cyrillic).
    expect(terminalKeyFor(ctrlShift('С', 'KeyC'))).toBe('copy');
    expect(terminalKeyFor(ctrlShift('М', 'KeyV'))).toBe('paste');
  });

  it('leaves Ctrl+C, Ctrl+V and other combinations to the shell', () => {
    expect(terminalKeyFor(key({ key: 'c', code: 'KeyC', ctrlKey: true }))).toBeNull();
    expect(terminalKeyFor(key({ key: 'v', code: 'KeyV', ctrlKey: true }))).toBeNull();
    expect(
      terminalKeyFor(key({ key: 'C', code: 'KeyC', ctrlKey: true, shiftKey: true, altKey: true })),
    ).toBeNull();
    expect(
      terminalKeyFor(key({ key: 'C', code: 'KeyC', ctrlKey: true, shiftKey: true, metaKey: true })),
    ).toBeNull();
    expect(terminalKeyFor(ctrlShift('X', 'KeyX'))).toBeNull();
    expect(terminalKeyFor(key({ key: 'f', code: 'KeyF', altKey: true }))).toBeNull();
    expect(terminalKeyFor(key({ key: 'ArrowLeft', code: 'ArrowLeft', altKey: true }))).toBeNull();
    expect(terminalKeyFor(key({ key: '1', code: 'Digit1', altKey: true }))).toBeNull();
    expect(terminalKeyFor(key({ key: '?', code: 'Slash', shiftKey: true }))).toBeNull();
    expect(terminalKeyFor(key({ key: 'Escape', code: 'Escape' }))).toBeNull();
  });

  it('keeps Tab for completion, and leaves the terminal on Shift+Tab', () => {
    expect(terminalKeyFor(key({ key: 'Tab', code: 'Tab' }))).toBeNull();
    expect(terminalKeyFor(key({ key: 'Tab', code: 'Tab', shiftKey: true }))).toBe('leave');
    expect(
      terminalKeyFor(key({ key: 'Tab', code: 'Tab', shiftKey: true, ctrlKey: true })),
    ).toBeNull();
  });

  it('opens the menu with Shift+F10 and the menu key', () => {
    expect(terminalKeyFor(key({ key: 'F10', code: 'F10', shiftKey: true }))).toBe('menu');
    expect(terminalKeyFor(key({ key: 'ContextMenu', code: 'ContextMenu' }))).toBe('menu');
    expect(terminalKeyFor(key({ key: 'F10', code: 'F10' }))).toBeNull();
  });
});

describe('TERMINAL_SHORTCUTS', () => {
  it('lists every key the terminal takes', () => {
    const keys = TERMINAL_SHORTCUTS.map((s) => s.keys.join('+'));
    expect(keys).toEqual(['Ctrl+Shift+C', 'Ctrl+Shift+V', 'Shift+F10', 'Shift+Tab']);
  });
});
