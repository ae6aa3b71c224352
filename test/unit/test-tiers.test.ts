import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allTestFiles, doesIo, isUnitByName } from '../../scripts/test-tiers.ts';

test('every pure test file is in the unit tier and no unit test reaches outside the process', () => {
  const files = allTestFiles();
  assert.ok(files.length > 100, `found ${files.length} test files`);
  const ioInUnit = files.filter((f) => isUnitByName(f) && doesIo(f));
  const pureOutside = files.filter((f) => !isUnitByName(f) && !doesIo(f));
  assert.deepEqual(ioInUnit, [], 'unit tests that start processes, servers or clusters: move them out of the unit tier');
  assert.deepEqual(pureOutside, [], 'pure tests outside the unit tier: name them *.unit.test.ts');
  assert.ok(files.filter(isUnitByName).length >= 40);
});
