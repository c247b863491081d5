import { describe, expect, it } from '@jest/globals';
import { HIGH_WATER, LOW_WATER, WriteFlow } from './terminal-flow.js';

const KIB = 1024;

describe('WriteFlow', () => {
  it('uses the watermarks of xterm.js’s flow-control guide', () => {
    expect(HIGH_WATER).toBe(512 * KIB);
    expect(LOW_WATER).toBe(128 * KIB);
  });

  it('asks for nothing while the terminal keeps up', () => {
    const flow = new WriteFlow();
    for (let i = 0; i < 1000; i++) {
      expect(flow.queued(4 * KIB)).toBeNull();
      expect(flow.written(4 * KIB)).toBeNull();
    }
    expect(flow.pendingBytes).toBe(0);
    expect(flow.paused).toBe(false);
  });

  it('pauses once above the high mark, once, and resumes only below the low mark', () => {
    const flow = new WriteFlow();
    const chunk = 64 * KIB;
    const actions: (string | null)[] = [];
    for (let i = 0; i < 8; i++) actions.push(flow.queued(chunk));
    // 8 × 64 KiB is exactly the high mark: not above it.
    expect(actions.every((a) => a === null)).toBe(true);
    expect(flow.queued(chunk)).toBe('pause');
    expect(flow.queued(chunk)).toBeNull();
    expect(flow.paused).toBe(true);
    expect(flow.pendingBytes).toBe(10 * chunk);
    // Written down to 192 KiB: still above the low mark.
    for (let i = 0; i < 7; i++) expect(flow.written(chunk)).toBeNull();
    expect(flow.pendingBytes).toBe(3 * chunk);
    expect(flow.written(chunk)).toBeNull(); // 128 KiB: not below it yet
    expect(flow.written(chunk)).toBe('resume');
    expect(flow.paused).toBe(false);
    expect(flow.written(chunk)).toBeNull();
    expect(flow.pendingBytes).toBe(0);
  });

  it('pauses again after a resume when the terminal falls behind again', () => {
    const flow = new WriteFlow(100, 10);
    expect(flow.queued(101)).toBe('pause');
    expect(flow.written(95)).toBe('resume');
    expect(flow.queued(200)).toBe('pause');
  });

  it('never counts below zero (a callback for a write made before a reset)', () => {
    const flow = new WriteFlow(100, 10);
    flow.queued(5);
    flow.written(50);
    expect(flow.pendingBytes).toBe(0);
  });
});
