// Tests read JSON bodies loosely and assert on them; let fetch's json() be `any` in test code only.
export {};
declare global {
  interface Response {
    json(): Promise<any>;
  }
}
