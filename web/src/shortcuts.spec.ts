import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  SHORTCUTS,
  isTerminalTarget,
  isTypingTarget,
  shortcutFor,
  type KeyInput,
} from './shortcuts.js';

const key = (input: Partial<KeyInput> & Pick<KeyInput, 'key'>): KeyInput => ({
  code: '',
  altKey: false,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  ...input,
});
const alt = (keyName: string, code = '') => key({ key: keyName, code, altKey: true });

describe('shortcutFor', () => {
  it('moves between tasks with Alt+arrows, also while typing', () => {
    for (const typing of [false, true]) {
      expect(shortcutFor(alt('ArrowRight'), typing)).toEqual({ kind: 'next' });
      expect(shortcutFor(alt('ArrowLeft'), typing)).toEqual({ kind: 'previous' });
    }
  });

  it('goes to task 1 to 9 with Alt+digit, by key position', () => {
    expect(shortcutFor(alt('1', 'Digit1'), true)).toEqual({ kind: 'goto', index: 0 });
    expect(shortcutFor(alt('9', 'Digit9'), false)).toEqual({ kind: 'goto', index: 8 });
    // macOS: Alt+3 types "£"; the key position is what counts.
    expect(shortcutFor(alt('£', 'Digit3'), true)).toEqual({ kind: 'goto', index: 2 });
    expect(shortcutFor(alt('0', 'Digit0'), false)).toBeNull();
    expect(shortcutFor(alt('1', 'Numpad1'), false)).toBeNull();
  });

  it('flags with Alt+F and opens the note with Alt+N, even where Alt changes the character', () => {
    expect(shortcutFor(alt('f', 'KeyF'), true)).toEqual({ kind: 'flag' });
    expect(shortcutFor(alt('ƒ', 'KeyF'), true)).toEqual({ kind: 'flag' });
    expect(shortcutFor(alt('n', 'KeyN'), true)).toEqual({ kind: 'note' });
    expect(shortcutFor(alt('x', 'KeyX'), true)).toBeNull();
  });

  it('leaves AltGr (Ctrl+Alt) and other modifier combinations to the terminal and the text boxes', () => {
    // AltGr+Q types "@" on a German keyboard and reports Ctrl+Alt.
    expect(
      shortcutFor(key({ key: '@', code: 'KeyQ', altKey: true, ctrlKey: true }), true),
    ).toBeNull();
    expect(
      shortcutFor(
        key({ key: 'ArrowRight', code: 'ArrowRight', altKey: true, ctrlKey: true }),
        false,
      ),
    ).toBeNull();
    expect(
      shortcutFor(key({ key: 'F', code: 'KeyF', altKey: true, shiftKey: true }), false),
    ).toBeNull();
    expect(
      shortcutFor(key({ key: 'f', code: 'KeyF', altKey: true, metaKey: true }), false),
    ).toBeNull();
  });

  it('opens the help with "?" only when not typing, so "?" can still be typed', () => {
    const question = key({ key: '?', code: 'Slash', shiftKey: true });
    expect(shortcutFor(question, false)).toEqual({ kind: 'help' });
    expect(shortcutFor(question, true)).toBeNull();
    expect(shortcutFor(key({ key: '?', ctrlKey: true }), false)).toBeNull();
    expect(shortcutFor(key({ key: '?', metaKey: true }), false)).toBeNull();
  });

  it('ignores plain keys', () => {
    expect(shortcutFor(key({ key: 'ArrowRight', code: 'ArrowRight' }), false)).toBeNull();
    expect(shortcutFor(key({ key: 'f', code: 'KeyF' }), false)).toBeNull();
    expect(shortcutFor(key({ key: '1', code: 'Digit1' }), false)).toBeNull();
  });
});

describe('SHORTCUTS', () => {
  it('lists every action shortcutFor knows', () => {
    const actions = SHORTCUTS.map((s) => s.action).join('\n');
    for (const word of ['Next', 'Previous', 'Go to task', 'Flag', 'note', 'shortcuts']) {
      expect(actions).toContain(word);
    }
  });
});

describe('isTypingTarget', () => {
  // The element classes it checks, as small stand-ins (there is no DOM here).
  class FakeElement {
    isContentEditable = false;
  }
  class FakeInput extends FakeElement {}
  class FakeTextArea extends FakeElement {}
  class FakeSelect extends FakeElement {}
  class FakeButton extends FakeElement {}
  const names = ['HTMLElement', 'HTMLInputElement', 'HTMLTextAreaElement', 'HTMLSelectElement'];
  const globals = globalThis as unknown as Record<string, unknown>;
  const saved = names.map((name) => globals[name]);

  beforeAll(() => {
    Object.assign(globals, {
      HTMLElement: FakeElement,
      HTMLInputElement: FakeInput,
      HTMLTextAreaElement: FakeTextArea,
      HTMLSelectElement: FakeSelect,
    });
  });

  afterAll(() => {
    names.forEach((name, i) => (globals[name] = saved[i]));
  });

  const target = (element: object) => element as unknown as EventTarget;

  it('is true in text inputs, text areas, selects and editable content', () => {
    expect(isTypingTarget(target(new FakeInput()))).toBe(true);
    expect(isTypingTarget(target(new FakeTextArea()))).toBe(true);
    expect(isTypingTarget(target(new FakeSelect()))).toBe(true);
    expect(
      isTypingTarget(target(Object.assign(new FakeElement(), { isContentEditable: true }))),
    ).toBe(true);
  });

  it('is false on other elements, non-elements and nothing', () => {
    expect(isTypingTarget(target(new FakeButton()))).toBe(false);
    expect(isTypingTarget(target({ isContentEditable: true }))).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
});

describe('isTerminalTarget', () => {
  // An element inside (or outside) the terminal's screen, as a small stand-in.
  class FakeElement {
    constructor(private readonly inTerminal: boolean) {}
    closest(selector: string): object | null {
      return selector === '[data-terminal]' && this.inTerminal ? {} : null;
    }
  }
  const globals = globalThis as unknown as Record<string, unknown>;
  const saved = globals.Element;

  beforeAll(() => {
    globals.Element = FakeElement;
  });

  afterAll(() => {
    globals.Element = saved;
  });

  const target = (element: object) => element as unknown as EventTarget;

  it('is true inside the terminal, so that its keys stay the shell’s', () => {
    expect(isTerminalTarget(target(new FakeElement(true)))).toBe(true);
  });

  it('is false elsewhere, on non-elements and on nothing', () => {
    expect(isTerminalTarget(target(new FakeElement(false)))).toBe(false);
    expect(isTerminalTarget(target({ closest: () => ({}) }))).toBe(false);
    expect(isTerminalTarget(null)).toBe(false);
  });
});
