export { SecretBox, type SecretKeySource } from './secret-box.js';
export { SecurityDefinitions, type StoredSecurityDefinition, type Credentials } from './definitions.js';
export { SecurityInputSchema, type SecurityInput, type SecurityView, type SecurityType } from './config.js';
export { TopicAccess, OPEN_ACCESS, globMatches, type PatternLayer, type TopicOperation } from './topic-patterns.js';
export { JWKS_TIMING, type AuthResult } from './jwt.js';
export { readPemFile } from './pem-file.js';
export { authorizationValue } from './authorization-header.js';
