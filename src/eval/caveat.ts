/**
 * A verdict drawn from few held-out files says little: the bootstrap resamples files, and with two or three of them
 * its interval is a handful of values. Every place that states a verdict adds this caveat below FEW_FILES. Plain
 * functions (the monitor's webview uses them too).
 */

/** Below this many held-out files a verdict is stated with the caveat. */
export const FEW_FILES = 5;

/** " (only 3 held-out files: a weak verdict — more code makes it surer)", or "" from FEW_FILES on. */
export function fewFilesCaveat(files: number): string {
  return files < FEW_FILES ? ` (only ${files} held-out file${files === 1 ? '' : 's'}: a weak verdict; a larger project gives a surer one)` : '';
}
