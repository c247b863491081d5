import { describe, expect, it } from '@jest/globals';
import { terminalColors, terminalFontSize } from './terminal-theme.js';

/** WCAG relative luminance and contrast of two #rrggbb colours. */
function contrast(a: string, b: string): number {
  const luminance = (hex: string) => {
    const [r, g, b] = [1, 3, 5].map((i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

describe('terminalColors', () => {
  it('is dark in the dark theme and light in the light one', () => {
    expect(terminalColors('dark').background).toBe('#0d1117');
    expect(terminalColors('light').background).toBe('#ffffff');
  });

  it('keeps the text and the cursor well readable in both', () => {
    for (const theme of ['light', 'dark'] as const) {
      const colors = terminalColors(theme);
      expect(contrast(colors.foreground, colors.background)).toBeGreaterThanOrEqual(7);
      expect(contrast(colors.cursor, colors.background)).toBeGreaterThanOrEqual(7);
      // The selection must not hide the text it covers.
      expect(contrast(colors.foreground, colors.selectionBackground)).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('has the prompt’s colours (green user, blue directory) readable as they are', () => {
    for (const theme of ['light', 'dark'] as const) {
      const colors = terminalColors(theme);
      for (const name of ['green', 'blue', 'brightGreen', 'brightBlue', 'red'] as const) {
        expect(contrast(colors[name], colors.background)).toBeGreaterThanOrEqual(4.5);
      }
    }
  });
});

describe('terminalFontSize', () => {
  it('is 14 px at 100 % and follows the zoom in whole pixels', () => {
    expect(terminalFontSize(1)).toBe(14);
    expect(terminalFontSize(0.8)).toBe(11);
    expect(terminalFontSize(1.2)).toBe(17);
    expect(terminalFontSize(1.8)).toBe(25);
    expect(Number.isInteger(terminalFontSize(1.1))).toBe(true);
  });
});
