export * from './activity';
export * from './alerts';
export * from './bugs';
export * from './projects';
