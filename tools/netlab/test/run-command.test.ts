// runCommand: output, stdin, bounded capture, timeouts, missing tools and failures with stderr.
import { describe, expect, it } from 'vitest';
import { describeCommand, runCommand } from '@edgebox/netlab';

describe('runCommand', () => {
  it('returns stdout, stderr and the exit code', async () => {
    const res = await runCommand('sh', ['-c', 'echo out; echo err >&2']);
    expect(res).toMatchObject({ code: 0, stdout: 'out\n', stderr: 'err\n', truncated: false });
  });

  it('feeds stdin', async () => {
    expect((await runCommand('cat', [], { input: 'hello' })).stdout).toBe('hello');
  });

  it('names the command and its stderr on failure', async () => {
    await expect(runCommand('sh', ['-c', 'echo boom >&2; exit 3'])).rejects.toMatchObject({
      code: 'NETLAB_COMMAND_FAILED',
      message: expect.stringMatching(/sh -c .*exit 3: boom/),
    });
    expect((await runCommand('sh', ['-c', 'exit 4'], { check: false })).code).toBe(4);
  });

  it('bounds captured output', async () => {
    const res = await runCommand('head', ['-c', '100000', '/dev/zero'], { maxOutputBytes: 1000 });
    expect(res.stdout.length).toBe(1000);
    expect(res.truncated).toBe(true);
  });

  it('kills a command at its timeout', async () => {
    await expect(runCommand('sleep', ['10'], { timeoutMs: 100 })).rejects.toMatchObject({ code: 'NETLAB_COMMAND_TIMEOUT' });
  });

  it('stops on abort', async () => {
    const ac = new AbortController();
    const p = runCommand('sleep', ['10'], { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'NETLAB_ABORTED' });
    await expect(runCommand('true', [], { signal: ac.signal })).rejects.toMatchObject({ code: 'NETLAB_ABORTED' });
  });

  it('reports a missing tool with its Debian package', async () => {
    await expect(runCommand('no-such-tool-netlab', [])).rejects.toMatchObject({ code: 'NETLAB_TOOL_MISSING' });
    expect(describeCommand('ip', ['a b', 'c'])).toBe('ip "a b" c');
  });
});
