// placeholder, replaced by the real CLI wiring
export {};
