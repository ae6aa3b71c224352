import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCommand, installCommand, missingPrerequisites } from '../bench/lib/prerequisites.ts';

test('bench prerequisites: a command on PATH is found, a missing one is named with its Debian package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-prereq-'));
  try {
    writeFileSync(join(dir, 'meshlet-present-tool'), '#!/bin/sh\n');
    chmodSync(join(dir, 'meshlet-present-tool'), 0o755);
    writeFileSync(join(dir, 'meshlet-not-executable'), '');
    const list = [
      { command: 'meshlet-present-tool', pkg: 'present' },
      { command: 'meshlet-not-executable', pkg: 'notexec' },
      { command: 'meshlet-absent-tool', pkg: 'absent-pkg' },
    ];
    assert.equal(findCommand('meshlet-present-tool', dir), dir);
    const missing = missingPrerequisites(list, dir);
    assert.deepEqual(missing.map((p) => p.command), ['meshlet-not-executable', 'meshlet-absent-tool']);
    assert.match(installCommand(missing), /apt-get install .*notexec absent-pkg$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
