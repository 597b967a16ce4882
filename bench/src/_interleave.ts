import { measure } from 'mitata'
import { errorMessage } from './_report.ts'

/** One competitor of an in-process workload. */
export interface Contender<Result = unknown> {
  name: string
  /** One full pass over the fixture. */
  run: () => Result | Promise<Result>
  /** Returns an error message when the pass produced the wrong result. */
  verify?: ((result: Result) => string | undefined) | undefined
  /** Not available (our package has not landed): shown with this reason instead of numbers. */
  unavailable?: string | undefined
}

export interface Measured {
  name: string
  /** Median time of one pass in each round, in nanoseconds. */
  roundTimes: number[]
  /** Why there are no numbers. */
  unavailable?: string | undefined
}

export interface InterleaveOptions {
  rounds: number
  /** Time mitata may spend on one contender in one round (it takes at least one sample). */
  budgetMs: number
  /**
   * A contender whose pass takes longer than this is timed directly (one GC, one pass, no mitata
   * warm-up) after its first round, and only in the first two rounds.
   */
  slowPassMs: number
  log: (line: string) => void
}

/**
 * Runs `rounds` rounds in which each contender is measured by mitata in turn (the order rotates
 * each round), so machine noise lands on all of them alike; each contender's output is checked
 * after its first round. A full GC runs before each contender's samples, outside the timed region.
 */
export async function interleave<Result>(
  contenders: readonly Contender<Result>[],
  options: InterleaveOptions,
): Promise<Measured[]> {
  const results: Measured[] = contenders.map((contender) => ({
    name: contender.name,
    roundTimes: [],
    unavailable: contender.unavailable,
  }))
  const gc = (globalThis as { gc?: () => void }).gc
  for (let round = 0; round < options.rounds; round++) {
    for (let step = 0; step < contenders.length; step++) {
      const index = (step + round) % contenders.length
      const contender = contenders[index] as Contender<Result>
      const result = results[index] as Measured
      if (result.unavailable) continue
      const last = result.roundTimes.at(-1)
      if (round >= 2 && last !== undefined && last > options.slowPassMs * 1e6) continue
      // The output of the last pass is checked after the first round, which saves a separate
      // checking pass (the slowest contenders take seconds per pass).
      let output: Result | undefined
      const run = async () => {
        output = await contender.run()
      }
      try {
        let time: number
        if (last !== undefined && last > options.slowPassMs * 1e6) {
          // A pass this long needs no warm-up call or batching: one GC, one timed pass.
          gc?.()
          const started = performance.now()
          await run()
          time = (performance.now() - started) * 1e6
        } else {
          // One full GC before the samples (outside the timed region), none between them: a GC
          // before every sample shrinks V8's young generation each time, so every sample would
          // pay to grow it back, which penalises allocation in a way a running parser never sees.
          // Without --expose-gc (the smoke test), no GC rather than mitata's slow fallback.
          const stats = await measure(run, {
            min_samples: 3,
            // Enough samples that one GC or JIT pause does not move the median of a short pass.
            max_samples: 40,
            min_cpu_time: options.budgetMs * 1e6,
            warmup_samples: 1,
            gc: gc ?? false,
          })
          time = stats.p50
        }
        const problem = round === 0 ? contender.verify?.(output as Result) : undefined
        if (problem) result.unavailable = `wrong result: ${problem}`
        else result.roundTimes.push(time)
      } catch (error) {
        result.unavailable = `failed: ${errorMessage(error).split('\n')[0]}`
      }
    }
    options.log(`  round ${round + 1}/${options.rounds} done`)
  }
  return results
}

/** Per-round ratios `reference time / contender time` (above 1: the contender is faster). */
export function speedups(reference: Measured, contender: Measured): number[] {
  const rounds = Math.min(reference.roundTimes.length, contender.roundTimes.length)
  const ratios: number[] = []
  for (let round = 0; round < rounds; round++) {
    ratios.push((reference.roundTimes[round] as number) / (contender.roundTimes[round] as number))
  }
  return ratios
}
