/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
export type LoginInput = {
  /** The second-factor code, when 2FA is on. */
  code?: string | null | undefined;
  email: string;
  password: string;
};

/** How the second factor is proven: an emailed code or an authenticator app. */
export type TwoFactorMethod =
  | 'EMAIL'
  | 'TOTP';

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { me: { id: string, email: string, firstName: string, lastName: string | null, credits: number, isActive: boolean, is2faEnabled: boolean, twoFactorMethod: TwoFactorMethod | null, isDarkMode: boolean, createdAt: string, updatedAt: string } };

export type LoginMutationVariables = Exact<{
  input: LoginInput;
}>;


export type LoginMutation = { login: { token: string, user: { id: string, email: string } } };
