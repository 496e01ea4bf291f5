export { hashSecret, verifySecret } from './password.js';
export { SecretBox, SecretKeyError, SecretKeyMismatchError, parseSecretKey, type SecretKeySource } from './secret-box.js';
export { SecurityDefinitions, type StoredSecurityDefinition, type Credentials } from './definitions.js';
export {
  SecurityInputSchema,
  SecurityViewSchema,
  SECURITY_TYPES,
  type SecurityInput,
  type SecurityView,
  type SecurityType,
} from './config.js';
