import { z } from 'zod';
import { pageQuery } from '../../../platform/input.ts';

export const listNotificationsQuery = z.object(pageQuery);
