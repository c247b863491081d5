import { describe, expect, it } from '@jest/globals';

/**
 * prefs.ts reads localStorage and the system theme when it loads, so the
 * browser it sees is put in place first and the module imported after. The
 * stored values are those an older build, or a hand edit, could leave.
 */
const storage = new Map<string, string>([
  ['cka.zoom', '5'], // far above the maximum
  ['cka.theme', '"blue"'], // not a theme
  ['cka.split', '0.6'],
  ['cka.notepadOpen', 'false'],
]);
const rootStyle = new Map<string, string>();
const root = {
  dataset: {} as Record<string, string>,
  style: { setProperty: (name: string, value: string) => rootStyle.set(name, value) },
};
Object.assign(globalThis, {
  window: {
    localStorage: {
      getItem: (key: string) => storage.get(key) ?? null,
      setItem: (key: string, value: string) => storage.set(key, value),
      removeItem: (key: string) => storage.delete(key),
    },
    matchMedia: (query: string) => ({ matches: query === '(prefers-color-scheme: dark)' }),
  },
  document: { documentElement: root },
});

const prefs = await import('./prefs.js');

const stored = (key: string): unknown => JSON.parse(storage.get(key) ?? 'null');

describe('preferences restored when the console loads', () => {
  it('clamps a stored zoom to the allowed range', () => {
    expect(prefs.zoom.value).toBeCloseTo(prefs.ZOOM_MAX);
  });

  it('uses the system theme when the stored one is not a theme', () => {
    expect(prefs.theme.value).toBe('dark');
  });

  it('restores a valid split and the notepad being closed', () => {
    expect(prefs.split.value).toBe(0.6);
    expect(prefs.notepadOpen.value).toBe(false);
  });
});

describe('changing preferences', () => {
  it('zooms in steps of 0.1 between 0.8 and 1.8, and remembers it', () => {
    prefs.changeZoom(1);
    expect(prefs.zoom.value).toBeCloseTo(1.8);
    for (let i = 0; i < 5; i++) prefs.changeZoom(-1);
    expect(prefs.zoom.value).toBeCloseTo(1.3);
    expect(stored('cka.zoom')).toBeCloseTo(1.3);
    for (let i = 0; i < 20; i++) prefs.changeZoom(-1);
    expect(prefs.zoom.value).toBeCloseTo(prefs.ZOOM_MIN);
    expect(stored('cka.zoom')).toBeCloseTo(0.8);
  });

  it('toggles the theme and remembers it', () => {
    const before = prefs.theme.value;
    prefs.toggleTheme();
    expect(prefs.theme.value).not.toBe(before);
    expect(stored('cka.theme')).toBe(prefs.theme.value);
    prefs.toggleTheme();
    expect(prefs.theme.value).toBe(before);
  });

  it('keeps the split between 25 % and 75 %, and remembers it only when asked (at the end of a drag)', () => {
    prefs.setSplit(0.1, false);
    expect(prefs.split.value).toBe(prefs.SPLIT_MIN);
    expect(stored('cka.split')).toBe(0.6);
    prefs.setSplit(0.9, true);
    expect(prefs.split.value).toBe(prefs.SPLIT_MAX);
    expect(stored('cka.split')).toBe(0.75);
    prefs.setSplit(0.4, true);
    expect(stored('cka.split')).toBe(0.4);
  });

  it('toggles the notepad and remembers it', () => {
    const before = prefs.notepadOpen.value;
    prefs.toggleNotepad();
    expect(prefs.notepadOpen.value).toBe(!before);
    expect(stored('cka.notepadOpen')).toBe(!before);
  });
});

describe('applyPreferences', () => {
  it('puts the theme and zoom on the document, follows changes, and stops when disposed', () => {
    const dispose = prefs.applyPreferences();
    expect(root.dataset.theme).toBe(prefs.theme.value);
    expect(rootStyle.get('--zoom')).toBe(prefs.zoom.value.toFixed(2));

    prefs.toggleTheme();
    while (prefs.zoom.value < prefs.ZOOM_MAX - 0.01) prefs.changeZoom(1);
    expect(root.dataset.theme).toBe(prefs.theme.value);
    expect(rootStyle.get('--zoom')).toBe('1.80');

    dispose();
    prefs.toggleTheme();
    expect(root.dataset.theme).not.toBe(prefs.theme.value);
  });
});
