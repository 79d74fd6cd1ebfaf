import { conformance } from './conformance/cases';

conformance('uws');
