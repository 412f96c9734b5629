import { Connection } from '../graphql/pagination';
import { SecurityEvent } from './security-event.entity';

export const SecurityEventConnection = Connection(SecurityEvent, 'SecurityEvent');
