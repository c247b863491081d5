import { describe, expect, it } from '@jest/globals';
import {
  formatDuration,
  formatIn,
  formatPoints,
  formatWallTime,
  percent,
  plural,
} from './format.js';

describe('plural', () => {
  it('uses the singular for exactly one', () => {
    expect(plural(1, 'task')).toBe('1 task');
    expect(plural(0, 'task')).toBe('0 tasks');
    expect(plural(2, 'task')).toBe('2 tasks');
    expect(plural(3, 'child', 'children')).toBe('3 children');
  });

  it('formats points', () => {
    expect(formatPoints(1)).toBe('1 point');
    expect(formatPoints(100)).toBe('100 points');
  });
});

describe('formatDuration', () => {
  it('says hours and minutes as people do', () => {
    expect(formatDuration(7200)).toBe('2 hours');
    expect(formatDuration(5400)).toBe('1 hour 30 minutes');
    expect(formatDuration(3660)).toBe('1 hour 1 minute');
    expect(formatDuration(3600)).toBe('1 hour');
    expect(formatDuration(1800)).toBe('30 minutes');
    expect(formatDuration(60)).toBe('1 minute');
  });

  it('rounds to the nearest minute, carrying into the hours', () => {
    expect(formatDuration(7170)).toBe('2 hours');
    expect(formatDuration(89)).toBe('1 minute');
    expect(formatDuration(29)).toBe('0 minutes');
  });
});

describe('formatIn', () => {
  it('counts seconds under a minute, rounding up and never "in 0 seconds"', () => {
    expect(formatIn(45)).toBe('in 45 seconds');
    expect(formatIn(44.2)).toBe('in 45 seconds');
    expect(formatIn(1)).toBe('in 1 second');
    expect(formatIn(0)).toBe('in 1 second');
  });

  it('counts whole minutes, rounded up, from a minute on', () => {
    expect(formatIn(60)).toBe('in about 1 minute');
    expect(formatIn(61)).toBe('in about 2 minutes');
    expect(formatIn(300)).toBe('in about 5 minutes');
  });
});

describe('formatWallTime', () => {
  it('shows the local hour and minute, without seconds', () => {
    const at = new Date(2030, 4, 1, 14, 35, 59).getTime();
    const shown = formatWallTime(at);
    expect(shown).toMatch(/35/);
    expect(shown).not.toMatch(/59/);
    expect(shown).toMatch(/14|2/);
    expect(formatWallTime(at + 60_000)).toMatch(/36/);
  });
});

describe('percent', () => {
  it('shows one decimal at most', () => {
    expect(percent(66.666)).toBe('66.7%');
    expect(percent(50)).toBe('50%');
    expect(percent(0)).toBe('0%');
    expect(percent(33.333)).toBe('33.3%');
  });
});
