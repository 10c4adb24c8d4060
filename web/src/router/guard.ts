import type { Router } from 'vue-router'
import { useAuthStore } from '@/stores/auth'
import { canOpen } from '@/access'
import { t } from '@/locales'

export function installGuard(router: Router): void {
  router.beforeEach(async (to) => {
    if (to.meta.public) return true
    const auth = useAuthStore()
    if (!auth.token) return { name: 'login', query: { redirect: to.fullPath } }
    try {
      await auth.loadMe()
    } catch {
      // an expired token on first load: start from the login page (nothing typed yet)
      auth.setToken(null)
      return { name: 'login', query: { redirect: to.fullPath, expired: '1' } }
    }
    if (!canOpen(auth.codes, auth.me?.level, to.meta)) return { name: 'forbidden' }
    return true
  })
  router.afterEach((to) => {
    const title = to.meta.title ? `${t(to.meta.title)} · ` : ''
    document.title = `${title}${t('app.title')}`
  })
}
