/**
 * Ends a Jest run with one plain line, "tests: N passed, N failed, N skipped",
 * that CI and humans can read without knowing Jest's summary format. A suite
 * that fails to load counts as a failure, so it cannot pass unnoticed.
 */
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(
      `tests: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`,
    );
  }
}
