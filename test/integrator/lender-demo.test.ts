import { runLenderDemo } from '../../scripts/lender-demo';

describe('npm run lender:demo', () => {
  it('with --auto, on its own embedded server (in-process store, jobs in memory): creates, starts, and reads the report', async () => {
    const lines: string[] = [];
    const outcome = await runLenderDemo({
      auto: true,
      print: (l) => lines.push(l),
      timeoutMs: 20_000,
      env: {},
    });
    const text = lines.join('\n');
    expect(outcome).toBe('ready');
    expect(text).toMatch(/verification\/start\?ticket=[A-Za-z0-9_-]{32}/);
    expect(text).toContain('status ready');
    expect(text).toMatch(/report: 200\n {2}income: \d+(\.\d+)? a month on average over 12 months/);
    expect(text).toMatch(
      /webhook ← verification\.ready msg_[0-9A-Z]{26} \(signature verified with standardwebhooks\): verification ver_\S+, reference demo-\d+/,
    );
  });
});
