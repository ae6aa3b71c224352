/** Reads the apiserver version to choose native sidecars (≥ 1.29) or a regular container with a start hold. */
import { VersionApi, type KubeConfig } from '@kubernetes/client-node';
import { NATIVE_SIDECAR_MIN } from './constants.ts';

/** Parses `major`/`minor` as the apiserver reports them (`"1"`, `"29+"`). */
export function supportsNativeSidecars(major: string, minor: string): boolean {
  const ma = Number.parseInt(major, 10);
  const mi = Number.parseInt(minor, 10);
  if (Number.isNaN(ma) || Number.isNaN(mi)) return false;
  return ma > NATIVE_SIDECAR_MIN.major || (ma === NATIVE_SIDECAR_MIN.major && mi >= NATIVE_SIDECAR_MIN.minor);
}

export async function readNativeSidecarSupport(kc: KubeConfig): Promise<{ native: boolean; gitVersion: string }> {
  const v = await kc.makeApiClient(VersionApi).getCode();
  return { native: supportsNativeSidecars(v.major, v.minor), gitVersion: v.gitVersion };
}
