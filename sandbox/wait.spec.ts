import { WaitTimeoutError, type Watched, waitFor } from './wait.js';

const running: Watched = { exit: undefined, exitedError: () => new Error('unused') };

describe('waitFor', () => {
  it('resolves as soon as the check passes', async () => {
    let calls = 0;
    await waitFor(
      'three calls',
      5_000,
      [running],
      async () => (++calls >= 3 ? true : `call ${calls}`),
      1,
    );
    expect(calls).toBe(3);
  });

  it('gives up after its bound, naming what it waited for and the last answer', async () => {
    const error = await waitFor('the moon', 50, [running], async () => 'still cheese', 5).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as Error).message).toBe(
      'timed out after 0.05 s waiting for the moon; last: still cheese',
    );
  });

  it('quotes a thrown error as the last answer', async () => {
    const error = await waitFor(
      'a socket',
      20,
      [running],
      async () => {
        throw new Error('ECONNREFUSED');
      },
      5,
    ).catch((e: unknown) => e);
    expect((error as Error).message).toContain('last: ECONNREFUSED');
  });

  it("fails at once with the dead process's error", async () => {
    const dead: Watched = { exit: 'exit code 1', exitedError: () => new Error('etcd exited') };
    let checked = false;
    const started = Date.now();
    const error = await waitFor('anything', 60_000, [running, dead], async () => {
      checked = true;
      return 'no';
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('etcd exited');
    expect(checked).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
