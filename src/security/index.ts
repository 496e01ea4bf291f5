export { hashSecret, verifySecret } from './password.js';
export { SecretBox } from './secret-box.js';
export {
  SecurityDefinitions,
  SecurityInputSchema,
  SecurityViewSchema,
  SECURITY_TYPES,
  type SecurityInput,
  type SecurityView,
  type SecurityType,
  type StoredSecurityDefinition,
  type Credentials,
} from './definitions.js';
