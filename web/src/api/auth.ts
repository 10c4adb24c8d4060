import type { components } from './schema'
import { client, ok } from './request'

export type Me = components['schemas']['Me']
export type Token = components['schemas']['Token']
export type Department = components['schemas']['DepartmentRead']

export function login(username: string, password: string): Promise<Token> {
  return ok(
    client.POST('/api/v1/auth/token', {
      body: { username, password, grant_type: 'password', scope: '' },
      bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    }),
  )
}

export const getMe = (): Promise<Me> => ok(client.GET('/api/v1/auth/me'))
export const logout = (): Promise<unknown> => ok(client.POST('/api/v1/auth/logout'))
export const getDepartments = (): Promise<Department[]> => ok(client.GET('/api/v1/departments'))
