/** Config text of small pipelines the tests share. */

/** A Pipeline answering every request with `body` (a Mock). */
export function mockPipeline(name: string, body: string): string {
  return `kind: Pipeline
name: ${name}
filters:
  - name: answer
    kind: Mock
    rules:
      - pathPrefix: /
        body: ${body}
`;
}

/** A Pipeline with a RateLimiter (`limits`: its fields, one per line indented by 4) in front of a Mock answering its own name. */
export function rateLimitedPipeline(name: string, limits: string): string {
  return `kind: Pipeline
name: ${name}
filters:
  - name: limiter
    kind: RateLimiter
    ${limits}
  - name: answer
    kind: Mock
    rules:
      - pathPrefix: /
        body: ${name}
`;
}
