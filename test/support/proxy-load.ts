// The load generator is shared with the demo (one implementation in examples/backends).
export { emptyLoadResult, percentOf, sendThroughProxy, type LoadOptions, type LoadResult } from '../../examples/backends/proxy-load.ts';
