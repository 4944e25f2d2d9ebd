/**
 * The titles of the problem+json answers (RFC 9457 `title`: the HTTP status in words), in the
 * request's language (issue 16); the `detail` is the code's sentence of problems.ts.
 */
export const answers = {
  'problemTitle.400': 'Bad Request',
  'problemTitle.401': 'Unauthorized',
  'problemTitle.403': 'Forbidden',
  'problemTitle.404': 'Not Found',
  'problemTitle.409': 'Conflict',
  'problemTitle.413': 'Content Too Large',
  'problemTitle.415': 'Unsupported Media Type',
  'problemTitle.429': 'Too Many Requests',
  'problemTitle.500': 'Internal Server Error',
  'problemTitle.503': 'Service Unavailable',
  'problemTitle.fallback': 'Error',
} as const;
