import { describe, expect, it } from '@jest/globals';
import type { EnvironmentsConfig } from '../config/config.schema.js';
import { dedicatedNeedsInvitation } from './sessions.service.js';

const sandbox = {
  provider: 'sandbox',
  sandboxUserNamespaces: true,
  sandboxTrustedCandidates: false,
} as EnvironmentsConfig;

describe('dedicatedNeedsInvitation', () => {
  it('lets anyone take an open dedicated exam whose sandbox nodes run in user namespaces', () => {
    expect(dedicatedNeedsInvitation(sandbox)).toBe(false);
  });

  it('asks for an invitation when the nodes run as the machine root, unless the operator trusts every candidate', () => {
    expect(dedicatedNeedsInvitation({ ...sandbox, sandboxUserNamespaces: false })).toBe(true);
    expect(
      dedicatedNeedsInvitation({
        ...sandbox,
        sandboxUserNamespaces: false,
        sandboxTrustedCandidates: true,
      }),
    ).toBe(false);
  });

  it('leaves other providers alone: their clusters are machines of their own', () => {
    expect(
      dedicatedNeedsInvitation({ ...sandbox, provider: 'none', sandboxUserNamespaces: false }),
    ).toBe(false);
  });
});
