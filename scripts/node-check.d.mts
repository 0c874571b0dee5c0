export declare const MIN_NODE: string;
export declare function nodeSupports(version: string, min?: string): boolean;
export declare function tooOldMessage(version: string): string;
