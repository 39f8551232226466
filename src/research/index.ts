/** Research access for the literature tasks: the offline corpus, the shared API cache, the S2 and arXiv clients, tools. */
export * from './types.js';
export { corpus, corpusPaper, searchCorpus, tokens } from './corpus/index.js';
export { ResearchCache, cacheKey, canonicalUrl } from './cache.js';
export { HttpClient, HttpError, DEFAULT_HTTP_POLICY, parseRetryAfter, type HttpPolicy } from './http.js';
export { CachedFetcher, NetworkDisabledError } from './fetcher.js';
export { SemanticScholarClient, s2PaperRef } from './semantic-scholar.js';
export { ArxivClient, parseArxivFeed } from './arxiv.js';
export {
  ResearchLibrary,
  researchConfigFromEnv,
  libraryFor,
  defaultLibrary,
  DEFAULT_CACHE_DIR,
  type ResearchConfig,
  type IdStatus,
} from './library.js';
export { paperTools, literatureTools, literatureDigest, MAX_TOOL_CHARS, MAX_LITERATURE_CHARS } from './tools.js';
