export * from './bugs';
export * from './projects';
