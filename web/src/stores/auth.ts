import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import * as authApi from '@/api/auth'
import type { Me } from '@/api/auth'
import { hasAnyCode } from '@/access'

const TOKEN_KEY = 'shiyu.token'

export const useAuthStore = defineStore('auth', () => {
  const token = ref<string | null>(localStorage.getItem(TOKEN_KEY))
  const me = ref<Me | null>(null)
  /** Set when a request came back 401 although we had a token: the re-login dialog opens
   * over the page, so whatever the user typed there stays. */
  const expired = ref(false)
  const codes = computed(() => new Set(me.value?.permissions ?? []))

  function setToken(value: string | null): void {
    token.value = value
    if (value) localStorage.setItem(TOKEN_KEY, value)
    else localStorage.removeItem(TOKEN_KEY)
  }

  async function login(username: string, password: string): Promise<void> {
    const result = await authApi.login(username, password)
    setToken(result.access_token)
    expired.value = false
    me.value = await authApi.getMe()
  }

  async function loadMe(): Promise<Me | null> {
    if (!token.value) return null
    if (!me.value) me.value = await authApi.getMe()
    return me.value
  }

  async function logout(): Promise<void> {
    try {
      if (token.value) await authApi.logout()
    } finally {
      setToken(null)
      me.value = null
    }
  }

  function markExpired(): void {
    if (token.value && me.value) expired.value = true
  }

  const can = (...needed: string[]): boolean => hasAnyCode(codes.value, needed)

  return { token, me, expired, codes, login, loadMe, logout, markExpired, setToken, can }
})
