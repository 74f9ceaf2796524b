import cliProgress from 'cli-progress';

/** Progress of one phase (a table, or part of one) of a long-running command. */
export interface Progress {
  start(label: string, total: number): void;
  /** `done` units of the current phase are finished */
  update(done: number): void;
  stop(): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** force the plain line format (default: plain unless the stream is a TTY) */
  plain?: boolean;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/**
 * A `cli-progress` bar when the stream is a terminal; otherwise one line per ~5% so CI logs show
 * progress without carriage-return noise.
 */
export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const plain = options.plain ?? !stream.isTTY;
  return plain ? lineProgress(stream) : barProgress(stream);
}

function barProgress(stream: NodeJS.WriteStream): Progress {
  let bar: cliProgress.SingleBar | undefined;
  return {
    start(label, total) {
      bar?.stop();
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${pad(label, 34)} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`,
          barsize: 30,
          etaBuffer: 20,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(Math.max(total, 1), 0);
      if (total === 0) bar.update(1);
    },
    update(done) {
      bar?.update(done);
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

function lineProgress(stream: NodeJS.WriteStream): Progress {
  let label = '';
  let total = 0;
  let nextPercent = 0;
  let started = 0;
  const line = (done: number) => {
    const percent = total === 0 ? 100 : Math.floor((done * 100) / total);
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    stream.write(`seed: ${pad(label, 34)} ${String(percent).padStart(3)}% (${done}/${total}) ${secs}s\n`);
  };
  return {
    start(l, t) {
      label = l;
      total = t;
      nextPercent = 5;
      started = performance.now();
      line(0);
    },
    update(done) {
      if (total === 0) return;
      const percent = (done * 100) / total;
      if (percent < nextPercent && done < total) return;
      line(done);
      nextPercent = Math.floor(percent / 5) * 5 + 5;
    },
    stop() {},
  };
}
