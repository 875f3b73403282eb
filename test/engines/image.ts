/**
 * A busybox image built locally (no registry is reachable from the test machines): the
 * root filesystem the other tests use (test/helpers/bundle.ts populateRootfs), as
 *   - a plain rootfs tarball, for `docker import`;
 *   - an OCI image layout in a tar archive (one uncompressed layer), for `podman load` and
 *     `ctr image import`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { populateRootfs } from '../helpers/bundle.js';

export interface BusyboxImage {
  /** `tar` of the root filesystem (for `docker import`). */
  rootfsTar: string;
  /** OCI image layout archive (for `podman load`, `ctr image import`). */
  ociArchive: string;
  /** The name the OCI archive carries (io.containerd.image.name, org.opencontainers.image.ref.name). */
  name: string;
}

const ENV_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function sha256(file: string): { digest: string; size: number } {
  const data = readFileSync(file);
  return { digest: `sha256:${createHash('sha256').update(data).digest('hex')}`, size: data.length };
}

/** Write a JSON blob into the layout; returns its descriptor fields. */
function writeBlob(blobs: string, value: unknown): { digest: string; size: number } {
  const text = Buffer.from(JSON.stringify(value));
  const hex = createHash('sha256').update(text).digest('hex');
  writeFileSync(path.join(blobs, hex), text);
  return { digest: `sha256:${hex}`, size: text.length };
}

/**
 * Build the image in `dir`; `name` like "docker.io/library/busybox:tsrunc". `cmd` is its
 * default command (a CRI sandbox image's is what keeps the pod up).
 */
export function buildBusyboxImage(dir: string, name: string, cmd: string[] = ['sh']): BusyboxImage {
  const rootfs = path.join(dir, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  populateRootfs(rootfs);
  // Files and directories engines expect in an image (they bind-mount over some of them).
  for (const d of ['etc', 'home', 'var/tmp', 'usr/bin', 'run', 'mnt']) mkdirSync(path.join(rootfs, d), { recursive: true });
  writeFileSync(path.join(rootfs, 'etc/hostname'), 'busybox\n');
  writeFileSync(path.join(rootfs, 'etc/hosts'), '127.0.0.1 localhost\n');
  writeFileSync(path.join(rootfs, 'etc/resolv.conf'), '');
  writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\ntester:x:1000:1000:tester:/home:/bin/sh\n');
  writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\nnobody:x:65534:\ntester:x:1000:\n');

  const rootfsTar = path.join(dir, 'rootfs.tar');
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '--sort=name', '-C', rootfs, '-cf', rootfsTar, '.']);

  const layout = path.join(dir, 'oci');
  const blobs = path.join(layout, 'blobs/sha256');
  mkdirSync(blobs, { recursive: true });
  const layer = sha256(rootfsTar);
  // The layer blob is the rootfs tar itself (uncompressed: its digest is also the diff id).
  execFileSync('cp', [rootfsTar, path.join(blobs, layer.digest.slice('sha256:'.length))]);
  const config = writeBlob(blobs, {
    architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
    os: 'linux',
    config: { Env: [ENV_PATH], Cmd: cmd, WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
    history: [{ created_by: 'ts-runc engine tests: busybox-static' }],
  });
  const manifest = writeBlob(blobs, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
  });
  writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    path.join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name },
        },
      ],
    }),
  );
  const ociArchive = path.join(dir, 'busybox-oci.tar');
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', layout, '-cf', `${ociArchive}.tmp`, 'oci-layout', 'index.json', 'blobs']);
  renameSync(`${ociArchive}.tmp`, ociArchive);
  return { rootfsTar, ociArchive, name };
}
