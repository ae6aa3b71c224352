/** Types of entry.js (plain JavaScript: bin/meshlet runs it before choosing a code form). */
export declare const SOURCE_DIRS: string[];
export declare const STAMP: string;
export declare function pickEntry(root: string, env?: Record<string, string | undefined>): { form: 'dist' | 'source'; main: string };
