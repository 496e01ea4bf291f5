import { useCallback, useEffect, useState } from 'preact/hooks';

/** Loads data now and again every `intervalMs` (0 = once); `reload()` refreshes at once. */
export function usePoll<T>(
  load: () => Promise<T>,
  intervalMs: number,
  deps: unknown[] = [],
): { data: T | undefined; error: string | undefined; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let live = true;
    const run = () =>
      load().then(
        (d) => live && (setData(d), setError(undefined)),
        (err: Error) => live && setError(err.message),
      );
    void run();
    const timer = intervalMs ? setInterval(run, intervalMs) : undefined;
    return () => {
      live = false;
      if (timer) clearInterval(timer);
    };
  }, [tick, ...deps]);
  return { data, error, reload };
}

/** Runs a change (delete, disconnect…) and then `after()`; keeps the last failure's message to show. */
export function useAction(after: () => void): {
  run: (change: () => Promise<unknown>, label?: string) => Promise<void>;
  error: string | null;
} {
  const [error, setError] = useState<string | null>(null);
  const run = async (change: () => Promise<unknown>, label?: string) => {
    setError(null);
    try {
      await change();
      after();
    } catch (err) {
      setError(label ? `${label}: ${(err as Error).message}` : (err as Error).message);
    }
  };
  return { run, error };
}
